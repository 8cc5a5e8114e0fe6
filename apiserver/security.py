"""Wiring of the security features: who you are, what you may do, what you may write.

``Security`` is built from the flags before the registry (the admission chain must be
handed to ``API``), bound to the registry once it exists, started after the caches
are filled and the bootstrap objects written, and finally wraps the ASGI app:

- authentication: client certificates, bearer tokens (``--token-auth-file``,
  service-account JWTs) and, with ``--anonymous-auth``, anonymous — in that order;
- authorization: ``--authorization-mode`` (default ``Node,RBAC``), with ``system:masters``
  always allowed; the access reviews and ``serviceaccounts/<name>/token`` are served;
- admission, in order: NamespaceLifecycle, ServiceAccount, NodeRestriction, Priority,
  DefaultTolerationSeconds, LimitRanger, RBAC escalation prevention, ResourceQuota —
  then the store's own validation;
- the filters (audit, in-flight limits, timeouts, body limits; ``apiserver.filters``).

Background work, all driven by watch caches: the Node authorizer's graph, the
ClusterRole aggregator, ``default`` ServiceAccounts, and ResourceQuota status.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apiserver.admission.chain import AdmissionChain
from apiserver.admission.escalation import RBACEscalation
from apiserver.admission.lifecycle import NamespaceLifecycle
from apiserver.admission.limitranger import LimitRanger
from apiserver.admission.noderestriction import NodeRestriction
from apiserver.admission.priority import PriorityAdmission
from apiserver.admission.quota import QuotaReconciler, ResourceQuotaAdmission
from apiserver.admission.serviceaccount import DefaultServiceAccounts, ServiceAccountAdmission
from apiserver.admission.tolerations import DefaultTolerationSeconds
from apiserver.app import ConnectionCachingAuthenticator
from apiserver.audit import AuditLog
from apiserver.authenticators.serviceaccounts import ServiceAccountTokens, TokenIssuer
from apiserver.authenticators.tokenrequest import TokenRequestHandler
from apiserver.authenticators.tokens import (
    Anonymous,
    BearerTokenAuthenticator,
    StaticTokens,
    TokenAuthenticator,
)
from apiserver.authn import Authenticator, CertificateAuthenticator, UnionAuthenticator
from apiserver.authz import reviews
from apiserver.authz.aggregation import AggregationUpdater
from apiserver.authz.bootstrap import reconcile_policy
from apiserver.authz.chain import AlwaysAllow, Authorizer, Chain
from apiserver.authz.graph import NodeGraph
from apiserver.authz.node import NodeAuthorizer
from apiserver.authz.rbac import CacheSource, RBACAuthorizer
from apiserver.filters import Filters, PreAuthenticated
from apiserver.limits import InFlightLimiter
from apiserver.options import Options
from kube import pki

logger = logging.getLogger(__name__)


def _load_private(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise pki.PkiError(f"{path}: service-account signing keys must be EC P-256")
    return key


def _load_public(path: Path) -> ec.EllipticCurvePublicKey:
    data = path.read_bytes()
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        key = serialization.load_pem_private_key(data, password=None).public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise pki.PkiError(f"{path}: service-account keys must be EC P-256")
    return key


class Security:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.escalation = RBACEscalation()
        self.quota = ResourceQuotaAdmission()
        self.admission = AdmissionChain([
            NamespaceLifecycle(),
            ServiceAccountAdmission(),
            NodeRestriction(),
            PriorityAdmission(),
            DefaultTolerationSeconds(),
            LimitRanger(),
            self.escalation,
            self.quota,
        ])
        self.api: Any = None
        self.graph = NodeGraph()
        self.node_enabled = False
        self.rbac: RBACAuthorizer | None = None
        self.chain = Chain([AlwaysAllow()])
        self.authenticator: Authenticator = CertificateAuthenticator()
        self.issuer: TokenIssuer | None = None
        self._background: list[Any] = []
        self.audit = AuditLog(options.audit_log_path) if options.audit_log_path else None

    @property
    def authorizer(self) -> Chain | None:
        """What ``create_app`` gets; None (allow everything) under AlwaysAllow alone."""
        return None if self.options.authorization_mode == ("AlwaysAllow",) else self.chain

    def _keys(self) -> tuple[ec.EllipticCurvePrivateKey, list[ec.EllipticCurvePublicKey]]:
        options = self.options
        pki_dir = options.data_dir / "pki"
        signing = options.service_account_signing_key_file
        private = _load_private(signing) if signing else pki.ensure_service_account_key(
            key_path=pki_dir / "sa.key", pub_path=pki_dir / "sa.pub"
        )
        verify = [private.public_key()]
        if options.service_account_key_file:
            extra = _load_public(options.service_account_key_file)
            if extra.public_numbers() != private.public_key().public_numbers():
                verify.append(extra)
        return private, verify

    def bind(self, api: Any) -> None:
        """Everything that needs the registry: authorizers over its caches, token
        verification against live ServiceAccounts, the served reviews and TokenRequest."""
        self.api = api
        options = self.options
        authorizers: list[Authorizer] = []
        for mode in options.authorization_mode:
            if mode == "Node":
                authorizers.append(NodeAuthorizer(self.graph))
                self.node_enabled = True
            elif mode == "RBAC":
                self.rbac = RBACAuthorizer(CacheSource(api))
                authorizers.append(self.rbac)
            else:
                authorizers.append(AlwaysAllow())
        self.chain = Chain(authorizers)
        self.escalation.chain = self.chain
        self.escalation.rbac = self.rbac
        self.admission.bind(api)

        private, verify = self._keys()
        audiences = list(options.api_audiences) or [options.service_account_issuer]
        self.issuer = TokenIssuer(key=private, issuer=options.service_account_issuer, audiences=audiences)
        token_authenticators: list[TokenAuthenticator] = []
        if options.token_auth_file is not None:
            token_authenticators.append(StaticTokens.from_file(options.token_auth_file))
        token_authenticators.append(
            ServiceAccountTokens(public_keys=verify, issuers=[options.service_account_issuer], audiences=audiences, api=api)
        )
        methods: Authenticator = UnionAuthenticator(CertificateAuthenticator(), BearerTokenAuthenticator(token_authenticators))
        if options.anonymous_auth:
            methods = UnionAuthenticator(methods, Anonymous(), fail_on_error=True)
        self.authenticator = methods

        reviews.register(api, chain=self.chain, rbac=self.rbac, node_enabled=self.node_enabled)
        api.subresources.register(
            group="", resource="serviceaccounts", subresource="token", handler=TokenRequestHandler(self.issuer)
        )

    async def start(self) -> None:
        """After the caches are filled and bootstrap ran: the RBAC policy, then the
        background followers."""
        api = self.api
        changes = await reconcile_policy(api)
        aggregator = AggregationUpdater(api)
        await aggregator.converge()
        if changes:
            logger.info("RBAC bootstrap policy: %d object(s) created or reconciled", len(changes))
        defaults = DefaultServiceAccounts(api)
        await defaults.ensure_all()
        tracker = self.quota.tracker
        assert tracker is not None
        reconciler = QuotaReconciler(tracker)
        for task in (aggregator, defaults, reconciler):
            task.start()
        self._background = [aggregator, defaults, reconciler]
        if self.node_enabled:  # the graph is only the Node authorizer's
            self.graph.start(api.store(group="", version="v1", resource="pods").cacher)
            self._background.append(self.graph)
        await self._caught_up()

    async def _caught_up(self) -> None:
        """Serve only once the RBAC caches hold what bootstrap just wrote: the first
        requests (the admin's kubectl, the components) are authorized from them."""
        for resource in CacheSource.RESOURCES:
            store = self.api.store(group="rbac.authorization.k8s.io", version="v1", resource=resource)
            listed = await store.storage.list(store.prefix())
            newest = max((int(o["metadata"].get("resourceVersion") or 0) for o in listed.items), default=0)
            try:
                await store.cacher.wait_until_fresh(newest, timeout=5.0)
            except Exception:
                logger.warning("the %s watch cache is still behind storage at startup", resource)

    async def stop(self) -> None:
        for task in self._background:
            await task.stop()
        self._background = []
        if self.audit is not None:
            self.audit.close()

    def wrap(self, app: Any) -> Filters:
        options = self.options
        limiter = InFlightLimiter(
            readonly=options.max_requests_inflight, mutating=options.max_mutating_requests_inflight
        )
        return Filters(
            app,
            # A client certificate is fixed for a connection's life: checked once per connection.
            authenticator=ConnectionCachingAuthenticator(self.authenticator),
            audit=self.audit,
            limiter=limiter,
            request_timeout=options.request_timeout,
            chain=self.chain,
        )

    @staticmethod
    def app_authenticator() -> PreAuthenticated:
        return PreAuthenticated()
