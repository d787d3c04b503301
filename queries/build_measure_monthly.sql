-- one row: the records one measure counts in one district and month
with record_groups as (
    select
        force,
        district_code,
        month_start,
        record_kind,
        crime_type,
        outcome,
        flags,
        count(*) as count_records
    from records
    where $months::varchar[] is null or list_contains($months::varchar[], month)
    group by all
),

final as (
    select
        g.force,
        m.measure_id,
        g.district_code,
        g.month_start,
        sum(g.count_records)::bigint as count_records
    from record_groups as g
    inner join measures as m
        on
            g.record_kind = m.rule_record_kind
            and (len(m.rule_crime_types) = 0 or list_contains(m.rule_crime_types, g.crime_type))
            and list_has_all(g.flags, m.rule_flags)
            and (len(m.rule_outcomes) = 0 or list_contains(m.rule_outcomes, g.outcome))
    group by all
)

select * from final
order by all
