"""The quarterly update: a lead writes their strand's commentary, results and actions beside its
figures and submits them; an approver approves or returns them. The workflow, checks and
history are `crimeprev.updates`; this page lays them out."""

from dataclasses import replace

import streamlit as st

import ui
from crimeprev.access.roles import SEES_UNSUPPRESSED
from crimeprev.access.suppression import rules_for
from crimeprev.figures import insight
from crimeprev.figures.overview import comparison_tables
from crimeprev.periods import parse_month
from crimeprev.updates import checks, csvfiles, editor, workflow
from crimeprev.updates.content import InvalidContent, last_quarter_by
from crimeprev.updates.permissions import can_approve, can_edit
from crimeprev.updates.store import UpdateError
from ui import auth, updates

MESSAGE_KEY = "update_message"
EDITABLE = ("draft", "returned", "approved")

view = ui.current_view()
config = view.config
ui.page_header("Quarterly update", view, counts=False)
store, user = updates.store(), updates.current_user()
settings = store.settings
if not editor.may_open(settings, user):
    st.info(
        "The quarterly update is written by each strand's leads and approved by the "
        f"'{settings.approver_role}' role; {user.name} is neither.",
        icon=":material/lock:",
    )
    st.stop()

quarter = last_quarter_by(view.filters.period)
strand_ids = editor.update_strands(settings, config, user)
asked = view.filters.strand_id
if asked and asked not in strand_ids:
    st.warning(
        f"{user.name} does not lead {config.strand(asked).name}: only its leads write its "
        "update. Showing a strand of yours instead.",
        icon=":material/lock:",
    )
strand_id = st.selectbox(
    "Strand",
    strand_ids,
    index=strand_ids.index(asked) if asked in strand_ids else 0,
    format_func=lambda s: config.strand(s).name,
)
strand = config.strand(strand_id)
is_lead, is_approver = can_edit(settings, user, strand_id), can_approve(settings, user)
st.caption(
    f"Writing for {editor.quarter_label(quarter)}, the latest quarter ending by the period in "
    "the sidebar. Totals are counted from the rows; the figures are the dashboard's."
)
message = st.session_state.pop(MESSAGE_KEY, None)
if message:
    st.success(message, icon=":material/check_circle:")

if is_approver and editor.store_is_empty(store):
    st.info(
        "The update store is empty. Import the commentary, results and delivery files of this "
        "data folder once, as the approved content they were published as.",
        icon=":material/upload:",
    )
    if st.button("Import the CSV files", icon=":material/upload:"):
        try:
            moved = csvfiles.import_csv(store, view.db.root, user.name)
        except UpdateError as error:
            st.error(str(error), icon=":material/error:")
        else:
            auth.record_event("update import", {"rows": moved.rows, "updates": moved.updates})
            for name in [k for k in st.session_state if str(k).startswith("update_loaded/")]:
                del st.session_state[name]
            st.session_state[MESSAGE_KEY] = f"Imported {moved.updates} strand updates."
            st.rerun()

# The form shows the update as it was when opened; a save names that row_version, so a change
# someone else made since is refused with a sentence instead of overwritten.
loaded_key = f"update_loaded/{strand_id}/{quarter}"
current = workflow.read_update(store, strand_id, quarter)
opened: workflow.UpdateState = st.session_state.setdefault(loaded_key, current)
if current.row_version != opened.row_version:
    st.warning(
        f"{current.changed_by} changed this update after you opened it. Your form still shows "
        "the version you opened; saving it would be refused. Reload to see theirs.",
        icon=":material/sync_problem:",
    )
    if st.button("Reload the update", icon=":material/refresh:"):
        st.session_state[loaded_key] = current
        st.rerun()
st.markdown(f"**{strand.name}** · {editor.state_sentence(opened, settings.approver_title)}")
if opened.state == "returned" and opened.return_comment:
    st.error(f"Returned with the comment: {opened.return_comment}", icon=":material/undo:")
editable = is_lead and opened.state in EDITABLE
if is_lead and opened.state == "approved":
    st.caption("This update is approved; saving a change starts its next version as a draft.")

form_column, figures_column = st.columns([3, 2], gap="large")
with figures_column:
    st.subheader("The strand's figures", divider="gray")
    quarter_view = replace(view.filters, period=parse_month(quarter), strand_id=strand_id)
    rows = ui.fetch(insight.insight_table, quarter_view, strand_id=strand_id)
    if not strand.measures:
        st.caption("This strand has no recorded-crime measure: only its results and actions.")
    for measure in strand.measures:
        st.markdown(f"**{measure.name}**")
        for comparison in comparison_tables(rows, measure.id, config.signals.significance_level):
            st.caption(comparison.title)
            st.table(comparison.table, hide_index=True)

key = f"{strand_id}/{quarter}/{opened.row_version}"
with form_column:
    st.subheader("Commentary", divider="gray")
    write_tab, preview_tab = st.tabs(["Write (Markdown)", "Preview"])
    with write_tab:
        text = st.text_area(
            "Commentary",
            value=opened.commentary or "",
            height=260,
            disabled=not editable,
            key=f"commentary/{key}",
            label_visibility="collapsed",
        )
    with preview_tab:
        st.markdown(text or "_Nothing written yet._")

    st.subheader("Operational results", divider="gray")
    metrics_table = st.data_editor(
        editor.metrics_frame(opened.metrics),
        num_rows="dynamic" if editable else "fixed",
        disabled=not editable,
        hide_index=True,
        key=f"metrics/{key}",
        column_config={
            "operation": st.column_config.TextColumn("Operation", required=True),
            "metric": st.column_config.TextColumn("Metric", required=True),
            "value": st.column_config.NumberColumn("Value", required=True),
            "unit": st.column_config.TextColumn("Unit", required=True),
            "period_label": st.column_config.TextColumn("Period"),
            "period_end": st.column_config.TextColumn("Period ends (YYYY-MM)"),
        },
    )

    st.subheader("Delivery actions", divider="gray")
    actions_shown = opened.actions or editor.starting_actions(store, strand_id, quarter)
    if not opened.actions and actions_shown:
        st.caption("Carried from the strand's previous update: set each status for this quarter.")
    actions_table = st.data_editor(
        editor.actions_frame(actions_shown),
        num_rows="dynamic" if editable else "fixed",
        disabled=not editable,
        hide_index=True,
        key=f"actions/{key}",
        column_config={
            "action_id": st.column_config.TextColumn("Id", required=True),
            "title": st.column_config.TextColumn("Action", width="large", required=True),
            "target_month": st.column_config.TextColumn("Due (YYYY-MM)", required=True),
            "completed_month": st.column_config.TextColumn("Completed (YYYY-MM)"),
            "status": st.column_config.SelectboxColumn(
                "Status",
                options=[*config.taxonomy.delivery_statuses, editor.NO_STATUS],
                required=True,
            ),
        },
    )

    try:
        metrics = editor.metrics_from_frame(metrics_table, quarter)
        actions = editor.actions_from_frame(actions_table)
        problem = None
    except InvalidContent as error:
        metrics, actions, problem = [], [], str(error)
    if problem:
        st.error(problem, icon=":material/error:")
    else:
        st.dataframe(
            editor.action_totals(actions, config.taxonomy.delivery_statuses),
            hide_index=True,
            column_config={"count_actions": st.column_config.NumberColumn("Actions")},
        )

    st.subheader("Checks", divider="gray")
    checked = checks.check_commentary(view.db, strand_id, quarter, text, view.district_codes)
    if not auth.allowed(SEES_UNSUPPRESSED):
        checked = checks.disclosed_findings(checked, strand_id, rules_for(config))
    findings = checks.flagged(checked)
    action_findings = checks.check_actions(actions, quarter)
    for finding in findings:
        st.warning(
            f"Stated {finding.stated}: {finding.message} — “{finding.sentence}”",
            icon=":material/fact_check:",
        )
    for action_finding in action_findings:
        st.warning(
            f"Action {action_finding.action_id}: {action_finding.message}.",
            icon=":material/fact_check:",
        )
    if not findings and not action_findings:
        st.caption("No stated figure differs from the computed one; no action needs a query.")


def act(verb: str, run: object) -> None:
    """Run one step of the workflow; record it; say what happened or why not."""
    try:
        state: workflow.UpdateState = run()  # type: ignore[operator]
    except UpdateError as error:
        st.error(str(error), icon=":material/error:")
        return
    st.session_state[loaded_key] = state
    auth.record_event(
        f"update {verb}",
        {"strand": strand_id, "quarter": quarter, "version": state.content_version},
    )
    st.session_state[MESSAGE_KEY] = (
        f"{strand.name}, {editor.quarter_label(quarter)}: {verb}. "
        f"{editor.state_sentence(state, settings.approver_title)}"
    )
    st.rerun()


def save_form() -> workflow.UpdateState:
    change = editor.form_change(opened, text, metrics, actions)
    return workflow.save(
        store, user, strand_id, quarter, opened.row_version, change.put, change.remove
    )


def submit_form() -> workflow.UpdateState:
    saved = save_form()
    # Kept even if the submission is refused, so the next save names the saved version.
    st.session_state[loaded_key] = saved
    return workflow.submit(store, user, strand_id, quarter, saved.row_version)


with form_column, st.container(horizontal=True):
    if editable and not problem:
        if st.button("Save draft", icon=":material/save:"):
            act("saved", save_form)
        if st.button("Submit for approval", type="primary", icon=":material/send:"):
            act("submitted", submit_form)
    if is_lead and opened.state == "submitted" and st.button("Withdraw", icon=":material/undo:"):
        act(
            "withdrawn",
            lambda: workflow.withdraw(store, user, strand_id, quarter, opened.row_version),
        )
if is_approver and opened.state == "submitted":
    with form_column:
        st.subheader("Approval", divider="gray")
        comment = st.text_input("Comment (needed to return it)", key=f"return/{key}")
        with st.container(horizontal=True):
            if st.button("Approve", type="primary", icon=":material/verified:"):
                act(
                    "approved",
                    lambda: workflow.approve(store, user, strand_id, quarter, opened.row_version),
                )
            if st.button("Return to the lead", icon=":material/undo:"):
                act(
                    "returned",
                    lambda: workflow.return_update(
                        store, user, strand_id, quarter, opened.row_version, comment
                    ),
                )

with st.expander("History of each field", icon=":material/history:"):
    for field_key, label, revisions in editor.history_table(
        workflow.history(store, strand_id, quarter)
    ):
        st.markdown(f"**{label}**")
        st.dataframe(revisions, hide_index=True)
        if is_lead and len(revisions) > 1:
            chosen = st.selectbox(
                "Revision to restore",
                revisions["revision_id"].iloc[1:],
                key=f"restore-choice/{field_key}/{key}",
            )
            if st.button("Restore it", key=f"restore/{field_key}/{key}"):
                act(
                    f"restored revision {chosen}",
                    lambda revision=int(chosen): workflow.restore(
                        store, user, strand_id, quarter, revision, opened.row_version
                    ),
                )
with st.expander("Audit trail of this update", icon=":material/receipt_long:"):
    st.dataframe(
        editor.audit_rows(workflow.audit_trail(store, strand_id, quarter)), hide_index=True
    )
if is_approver:
    with st.expander("Where every strand's update stands", icon=":material/list_alt:"):
        st.dataframe(workflow.quarter_status(store, quarter), hide_index=True)
