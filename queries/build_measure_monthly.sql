-- one row: the records one measure counts in one district and month
-- Alike records are counted first and the rule is checked once per group: checking it per
-- record (grouping record_measures) took twice as long over two million records.
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
        on counts_toward_measure(
            g.record_kind, g.crime_type, g.flags, g.outcome,
            m.rule_record_kind, m.rule_crime_types, m.rule_flags, m.rule_outcomes
        )
    group by all
)

select * from final
order by all
