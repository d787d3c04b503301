"""The quarterly update written in the dashboard: each lead's commentary, operational results
and delivery actions per strand and quarter, kept in a database (store, schema, migrations),
moved through draft, submitted, approved or returned (workflow, permissions), checked against
the computed figures (checks), and exchanged with the CSV files the dashboard reads (csvfiles).

What a page needs, in the order it needs it:

    store = open_store(root)                              # once per process (cache it)
    led_strands(store.settings, user)                     # the strands the user writes
    can_approve(store.settings, user)                     # whether to show the approver's view
    state = read_update(store, strand_id, quarter)        # fields, state, row_version
    save(store, user, strand_id, quarter, state.row_version, put=[...], remove=[...])
    submit / withdraw / approve / return_update(store, user, strand_id, quarter, row_version)
    check_commentary(db, strand_id, quarter, text), check_actions(state.actions, quarter)
    history(store, strand_id, quarter[, field]), restore(..., revision_id, row_version)
    audit_trail(store, strand_id, quarter), quarter_status(store, quarter)
    approved_marks(store, period)                         # the Overview's "approved words of"
    quarter_content(store, quarter, "approved")           # what the deck carries

Every error a user can cause is an `UpdateError` whose message is one sentence.
"""
