"""Patients' records: retention, subject access, and the FHIR and CSV exports."""
