"""Scripts that regenerate the committed test vectors."""
