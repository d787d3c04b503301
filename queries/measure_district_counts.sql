-- one row: one measure's records in one district over one window
with windows as (
    select
        unnest(
            $windows::struct(window_name varchar, window_start date, window_end date)[],
            recursive := true
        )
),

counts as (
    select
        district_code,
        month_start,
        count_records
    from measure_monthly
    where
        measure_id = $measure_id::varchar
        and ($force::varchar is null or force = $force::varchar)
),

places as (
    select
        district_code,
        district_name,
        coalesce(lpa, '') as lpa,
        is_force_district
    from districts
    where
        ($district_codes::varchar[] is null or list_contains($district_codes::varchar[], district_code))
),

final as (
    select
        p.district_code,
        p.district_name,
        p.lpa,
        p.is_force_district,
        w.window_name,
        coalesce(sum(c.count_records), 0)::bigint as count_records
    from places as p
    cross join windows as w
    left join counts as c
        on
            p.district_code = c.district_code
            and c.month_start between w.window_start and w.window_end
    group by all
)

select * from final
where is_force_district or count_records > 0
order by district_name, window_name
