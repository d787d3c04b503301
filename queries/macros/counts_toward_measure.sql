-- true when a measure's rule counts a record of this kind, crime type, flags and outcome: the one rule, used per record by record_measures and per group of alike records by the monthly build
create or replace macro counts_toward_measure(
    record_kind, crime_type, flags, outcome,
    rule_record_kind, rule_crime_types, rule_flags, rule_outcomes
) as
record_kind = rule_record_kind
and (len(rule_crime_types) = 0 or list_contains(rule_crime_types, crime_type))
and list_has_all(flags, rule_flags)
and (len(rule_outcomes) = 0 or list_contains(rule_outcomes, outcome))
