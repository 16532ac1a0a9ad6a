"""The load test (README "Load test"): a locust scenario, the data it needs, and `bin/loadtest`'s run."""
