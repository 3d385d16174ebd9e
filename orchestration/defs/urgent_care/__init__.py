"""Urgent and emergency care: the monthly A&E SitRep (MSitAE) and record-level A&E (ECDS, HES A&E)."""
