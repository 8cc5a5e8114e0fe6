"""The handlers of the eight verbs on a stored resource (watch is in ``watch.py``).

Each reads what its verb needs from the ``Call``, asks the store, and answers with the
status code Kubernetes uses: 201 for a create (and a create-on-update or apply that
created), 200 otherwise, 202 for a delete that is still pending while the client
explicitly asked not to orphan dependents.
"""

from __future__ import annotations

from apiserver import negotiation
from apiserver.registry import ResourceStore
from kube.errors import NotFound

from . import params
from .call import Call
from .render import render_list, render_object


def _store(call: Call) -> ResourceStore:
    assert call.store is not None  # the dispatcher routes virtual resources elsewhere
    return call.store


async def get(call: Call) -> int:
    store = _store(call)
    ctx = call.ctx
    if call.query.get("resourceVersion") == "0" and store.cacher is not None:
        # "Any version is fine": answer from the watch cache without a storage read.
        obj = store.cacher.get(store.key(namespace=ctx.namespace, name=ctx.name))
        if obj is None:
            raise NotFound.of(resource=store.info.resource, group=store.info.group, name=ctx.name)
    else:
        obj = await store.get(ctx)
    return await call.respond(200, render_object(call.output, info=call.info, obj=obj, include_object=call.include_object))


async def list_(call: Call) -> int:
    options = params.list_options(call.query, watch=False)
    page = await _store(call).list(call.ctx, options=options)
    body = render_list(
        call.output, info=call.info, items=page.items, list_meta=page.list_meta(), include_object=call.include_object
    )
    return await call.respond(200, body)


async def create(call: Call) -> int:
    call.apply_write_options(kind="CreateOptions")
    body = await call.decoded_body()
    obj = await _store(call).create(call.ctx, body)
    return await call.respond(201, render_object(call.output, info=call.info, obj=obj, include_object=call.include_object))


async def update(call: Call) -> int:
    call.apply_write_options(kind="UpdateOptions")
    body = await call.decoded_body()
    obj, created = await _store(call).update(call.ctx, body)
    rendered = render_object(call.output, info=call.info, obj=obj, include_object=call.include_object)
    return await call.respond(201 if created else 200, rendered)


async def patch(call: Call) -> int:
    patch_type = negotiation.base_media_type(call.content_type)
    if patch_type not in negotiation.PATCH_TYPES:
        raise negotiation.unsupported_patch_type(call.content_type)
    applying = patch_type == negotiation.APPLY_PATCH
    call.apply_write_options(kind="PatchOptions", apply=applying)
    force = params.check_force(call.query, apply=applying)
    patch_body = negotiation.decode_patch(patch_type=patch_type, body=await call.body())
    obj, created = await _store(call).patch(call.ctx, patch_type=patch_type, patch=patch_body, force=force)
    rendered = render_object(call.output, info=call.info, obj=obj, include_object=call.include_object)
    return await call.respond(201 if created else 200, rendered)


async def delete(call: Call) -> int:
    raw = await call.body()
    body = negotiation.decode_body(content_type=call.content_type, body=raw) if raw.strip() else None
    options = params.delete_options(call.query, dry_run=call.dry_run_values(), body=body)
    call.ctx.dry_run = options.dry_run
    obj, deleted = await _store(call).delete(call.ctx, options=options)
    status = 202 if not deleted and options.orphan_dependents is False else 200
    return await call.respond(status, render_object(call.output, info=call.info, obj=obj, include_object=call.include_object))


async def delete_collection(call: Call) -> int:
    raw = await call.body()
    body = negotiation.decode_body(content_type=call.content_type, body=raw) if raw.strip() else None
    options = params.delete_options(call.query, dry_run=call.dry_run_values(), body=body)
    call.ctx.dry_run = options.dry_run
    list_options = params.list_options(call.query, watch=False)
    result = await _store(call).delete_collection(call.ctx, options=options, list_options=list_options)
    body_out = render_list(
        call.output,
        info=call.info,
        items=result["items"],
        list_meta=result["metadata"],
        include_object=call.include_object,
    )
    return await call.respond(200, body_out)
