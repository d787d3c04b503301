-- one row: the latest reported value of one operational result of a strand, up to a month
with reported as (
    select
        *,
        row_number() over (
            partition by operation, metric order by period_end desc
        ) as recency
    from activity_metrics
    where strand_id = $strand_id::varchar and period_end <= $period::varchar
)

select
    operation,
    metric,
    value,
    unit,
    period_label,
    period_end
from reported
where recency = 1
order by operation, metric
