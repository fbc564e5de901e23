//! The `detail` texts of Knox's and DRF's 401 answers.

pub const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub const INVALID_TOKEN: &str = "Invalid token.";
pub const NO_CREDENTIALS: &str = "Invalid token header. No credentials provided.";
pub const CONTAINS_SPACES: &str = "Invalid token header. Token string should not contain spaces.";
pub const USER_INACTIVE: &str = "User inactive or deleted.";
