fn main() {
    std::process::exit(leads::cli::run());
}
