"""A legal referral's pack."""
