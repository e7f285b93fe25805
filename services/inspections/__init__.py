"""The inspections service: inspections (thanh tra, kiểm tra, giám sát), their recommendations
and every unit's inspection status, kept current from ``inspections.v1``."""
