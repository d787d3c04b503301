-- one row: one measure's count in one month in the chosen districts; null where the data has no such month
with months as (
    select unnest(generate_series($start::date, $end::date, interval 1 month))::date as month_start
),

covered as (
    select distinct month_start
    from crime_type_monthly
    where $force::varchar is null or force = $force::varchar
),

counts as (
    select
        measure_id,
        month_start,
        sum(count_records) as count_records
    from measure_monthly
    where
        ($district_codes::varchar[] is null or list_contains($district_codes::varchar[], district_code))
        and ($force::varchar is null or force = $force::varchar)
        and month_start between $start::date and $end::date
    group by all
),

final as (
    select
        m.measure_id,
        months.month_start,
        covered.month_start is not null as is_covered,
        case
            when covered.month_start is not null then coalesce(counts.count_records, 0)
        end::bigint as count_records
    from measures as m
    cross join months
    left join covered on months.month_start = covered.month_start
    left join counts
        on m.measure_id = counts.measure_id and months.month_start = counts.month_start
    where $measure_ids::varchar[] is null or list_contains($measure_ids::varchar[], m.measure_id)
)

select * from final
order by measure_id, month_start
