-- one row: one strand's delivery-plan actions counted by status at the end of one quarter
with statuses as (
    select
        a.strand_id,
        st.status
    from delivery_actions as a
    inner join delivery_status as st on a.action_id = st.action_id
    where st.quarter_end = $quarter_end::varchar
),

final as (
    select
        s.strand_id,
        s.strand_name,
        s.strand_group,
        s.strand_order,
        count(st.status)::bigint as total,
        count(*) filter (where st.status = 'complete')::bigint as complete,
        count(*) filter (where st.status = 'ongoing')::bigint as ongoing,
        count(*) filter (where st.status = 'at risk')::bigint as at_risk,
        count(*) filter (where st.status = 'not started')::bigint as not_started
    from strands as s
    left join statuses as st on s.strand_id = st.strand_id
    group by all
)

select * exclude (strand_order) from final
order by strand_order
