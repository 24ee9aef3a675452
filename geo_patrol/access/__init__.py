"""Who the caller is, what they may do, and which rows they may see: in one place."""
