/// mimalloc rather than glibc's malloc: less CPU per request under load, and
/// freed memory goes back instead of staying in per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    leads::db::disable_memory_statistics();
    std::process::exit(leads::cli::run());
}
