"""Deployment: the lecture's HAProxy config (`deploy.lecture`), the Dockerfile, Kubernetes manifests."""
