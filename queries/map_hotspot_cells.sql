-- one row: a square cell of the map and how many of one measure's records fall in it (cells under the minimum left out)
with located as (
    select
        floor(r.latitude / $cell_degrees::double) as cell_y,
        floor(r.longitude / $cell_degrees::double) as cell_x,
        r.record_kind,
        r.crime_type,
        r.outcome,
        r.flags,
        count(*) as count_records
    from records as r
    where
        list_contains($months::varchar[], r.month)
        and r.latitude is not null
        and r.longitude is not null
        and (
            $district_codes::varchar[] is null
            or list_contains($district_codes::varchar[], r.district_code)
        )
    group by all
),

record_groups as (
    select
        cell_y,
        cell_x,
        record_kind,
        crime_type,
        outcome,
        flags,
        count_records
    from located
),

counted as (
    select
        l.cell_y,
        l.cell_x,
        sum(l.count_records)::bigint as count_records
    from record_groups as l
    inner join measures as m
        on
            m.measure_id = $measure_id::varchar
            and l.record_kind = m.rule_record_kind
            and (len(m.rule_crime_types) = 0 or list_contains(m.rule_crime_types, l.crime_type))
            and list_has_all(l.flags, m.rule_flags)
            and (len(m.rule_outcomes) = 0 or list_contains(m.rule_outcomes, l.outcome))
    group by all
),

final as (
    select
        (cell_y + 0.5) * $cell_degrees::double as latitude,
        (cell_x + 0.5) * $cell_degrees::double as longitude,
        count_records
    from counted
    where count_records >= $min_count::bigint
)

select * from final
order by count_records desc, latitude, longitude
