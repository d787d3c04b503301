-- one row: a record and one measure that counts it (the one definition of which records a measure counts)
select
    r.*,
    m.measure_id
from records as r
inner join measures as m
    on
        r.record_kind = m.rule_record_kind
        and (len(m.rule_crime_types) = 0 or list_contains(m.rule_crime_types, r.crime_type))
        and list_has_all(r.flags, m.rule_flags)
        and (len(m.rule_outcomes) = 0 or list_contains(m.rule_outcomes, r.outcome))
