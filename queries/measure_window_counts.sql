-- one row: one measure's records counted over one window, in the chosen districts
with windows as (
    select
        unnest(
            $windows::struct(window_name varchar, window_start date, window_end date)[],
            recursive := true
        )
),

chosen as (
    select
        measure_id,
        month_start,
        count_records
    from measure_monthly
    where
        ($district_codes::varchar[] is null or list_contains($district_codes::varchar[], district_code))
        and ($force::varchar is null or force = $force::varchar)
),

final as (
    select
        m.measure_id,
        w.window_name,
        w.window_start,
        w.window_end,
        coalesce(sum(c.count_records), 0)::bigint as count_records
    from measures as m
    cross join windows as w
    left join chosen as c
        on
            m.measure_id = c.measure_id
            and c.month_start between w.window_start and w.window_end
    where $measure_ids::varchar[] is null or list_contains($measure_ids::varchar[], m.measure_id)
    group by all
)

select * from final
order by measure_id, window_name
