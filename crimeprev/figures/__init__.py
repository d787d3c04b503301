"""The figures every surface shows: insight tables, delivery, activity, counts, Explore, the map,
the overview and the data inventory, each computed once here from the monthly tables."""
