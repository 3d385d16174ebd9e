"""Prescribing: the NHSBSA English Prescribing Dataset (EPD) and its predecessors, loaded into one
canonical model (feeds.py), with OpenPrescribing-style measures built in dbt (marts/prescribing)."""
