-- one row: a delivery-plan action with its status at the end of one reporting quarter
with statuses as (
    select
        action_id,
        status
    from delivery_status
    where quarter_end = $quarter_end::varchar
),

final as (
    select
        s.strand_id,
        s.strand_name,
        s.strand_order,
        a.action_id,
        a.title,
        st.status,
        a.target_month,
        a.completed_month
    from delivery_actions as a
    inner join statuses as st on a.action_id = st.action_id
    inner join strands as s on a.strand_id = s.strand_id
    where
        ($strand_ids::varchar[] is null or list_contains($strand_ids::varchar[], a.strand_id))
        and ($statuses::varchar[] is null or list_contains($statuses::varchar[], st.status))
)

select * from final
order by strand_order, action_id
