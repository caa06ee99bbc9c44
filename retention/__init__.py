"""Keeping personal data only as long as the law allows (issue 17): retention rules per
process and data category, erasure of closed cases past their retention, and the records
the auditor reads. See docs/data-protection.md."""
