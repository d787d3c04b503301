-- one row: one measure's count in one force district in one month the data covers (zeros included)
with covered as (
    select distinct month_start
    from crime_type_monthly
    where
        ($force::varchar is null or force = $force::varchar)
        and month_start between $start::date and $end::date
),

places as (
    select
        district_code,
        district_name,
        district_slug,
        coalesce(lpa, '') as lpa
    from districts
    where is_force_district
),

counts as (
    select
        measure_id,
        district_code,
        month_start,
        sum(count_records) as count_records
    from measure_monthly
    where
        ($force::varchar is null or force = $force::varchar)
        and month_start between $start::date and $end::date
    group by all
),

final as (
    select
        m.measure_id,
        p.district_code,
        p.district_name,
        p.district_slug,
        p.lpa,
        c.month_start,
        coalesce(counts.count_records, 0)::bigint as count_records
    from measures as m
    cross join places as p
    cross join covered as c
    left join counts
        on
            m.measure_id = counts.measure_id
            and p.district_code = counts.district_code
            and c.month_start = counts.month_start
)

select * from final
order by measure_id, district_code, month_start
