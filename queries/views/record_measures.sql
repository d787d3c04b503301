-- one row: a record and one measure that counts it (the one definition of which records a measure counts)
select
    r.*,
    m.measure_id
from records as r
inner join measures as m
    on counts_toward_measure(
        r.record_kind, r.crime_type, r.flags, r.outcome,
        m.rule_record_kind, m.rule_crime_types, m.rule_flags, m.rule_outcomes
    )
