//! rule-table (to be filled in by its issue).
