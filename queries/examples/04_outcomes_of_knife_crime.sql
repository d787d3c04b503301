-- one row: an outcome and how many knife-enabled crimes of the latest 12 months reached it
-- title: Outcomes of knife crime, latest 12 months
with latest as (
    select max(month_start) as last_month from crime_type_monthly
)

select
    coalesce(r.outcome, '(none)') as outcome,
    count(*) as count_records
from records as r, latest
where
    r.record_kind = 'crime'
    and r.is_knife_enabled
    and r.month_start > latest.last_month - interval 12 month
group by all
order by count_records desc
