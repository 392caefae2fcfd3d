"""What the DCCT sees: figures on what staff ask, built without question text or names.

`report.build` turns the stored records into an `Insights` value in which every small
count is already hidden (privacy.py); the Teams card, the page and the command line
render that value and never see a raw count, so the rule is applied in one place.
"""
