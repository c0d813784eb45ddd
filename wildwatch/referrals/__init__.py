"""Referrals of confirmed offers to platforms (for removal) and enforcement agencies (for investigation),
their evidence packages, and the follow-up of what the platforms took down."""
