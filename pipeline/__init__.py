"""The tollwatch CLI, its pipeline options and the wiring of stages."""
