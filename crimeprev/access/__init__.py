"""Who may see what: roles from the identity token, small-count suppression, the audit trail."""
