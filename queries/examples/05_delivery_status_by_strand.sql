-- one row: a strand and how many of its delivery actions had each status at the latest quarter
-- title: Delivery plan status by strand, latest quarter
with latest as (
    select max(quarter_end) as quarter_end from delivery_status
)

select
    s.strand_name,
    count(*) filter (where ds.status = 'complete') as count_complete,
    count(*) filter (where ds.status = 'ongoing') as count_ongoing,
    count(*) filter (where ds.status = 'at risk') as count_at_risk,
    count(*) filter (where ds.status = 'not started') as count_not_started
from delivery_status as ds
inner join latest on ds.quarter_end = latest.quarter_end
inner join delivery_actions as a on ds.action_id = a.action_id
inner join strands as s on a.strand_id = s.strand_id
group by s.strand_name, s.strand_order
order by s.strand_order
