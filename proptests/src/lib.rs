//! Property tests for Strata's layers (see tests/).
