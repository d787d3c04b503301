"""The quarterly update written in the dashboard: each lead's commentary, operational results
and delivery actions per strand and quarter, kept in a database (store, schema, migrations),
moved through draft, submitted, approved or returned (workflow, permissions), checked against
the computed figures (checks), and exchanged with the CSV files the dashboard reads (csvfiles).
"""
