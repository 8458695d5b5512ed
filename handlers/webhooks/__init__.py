"""Webhook receivers: verify the sender, dedupe, parse to Events, store, answer fast."""

from fastapi import APIRouter

from handlers.webhooks import deploy, flux, github, jenkins

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
router.include_router(github.router)
router.include_router(jenkins.router)
router.include_router(deploy.router)
router.include_router(flux.router)

__all__ = ["router"]
