"""Running the dashboard behind a load balancer: several replicas and nginx (python -m deploy.replicas)."""
