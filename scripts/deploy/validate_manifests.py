"""Validates Kubernetes manifests offline and prints one JSON line per resource.

Built-in kinds are checked with kubernetes-validate against the API's strict schemas (unknown fields
are errors) for each Kubernetes version given. KEDA's ScaledObject and TriggerAuthentication, and the
Prometheus Operator's ServiceMonitor and PodMonitor, are checked with cloudcoil.models.keda and
cloudcoil.models.prometheus_operator (pydantic models generated from the CRDs): types and required
fields by the model, unknown fields by walking the document against the models' fields, as the API
server's strict field validation would. Anything else is reported as unchecked, never as valid.

usage: python validate_manifests.py [--kubernetes-version 1.30 ...] FILE...
exit code: 0 when every resource is valid, 1 otherwise.
"""
import argparse
import json
import sys
import typing

import kubernetes_validate
import yaml
from pydantic import BaseModel, ValidationError


def unknown_fields(model: type, data: typing.Any, path: str = "") -> list:
    """Keys of `data` that `model` (a pydantic model) does not declare, recursively."""
    if not isinstance(data, dict) or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    by_alias = {(field.alias or name): field for name, field in model.model_fields.items()}
    found = []
    for key, value in data.items():
        field = by_alias.get(key)
        if field is None:
            found.append(f"{path}{key}")
            continue
        for inner in nested_models(field.annotation):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    found += unknown_fields(inner, item, f"{path}{key}[{i}].")
            else:
                found += unknown_fields(inner, value, f"{path}{key}.")
    return sorted(set(found))


def nested_models(annotation: typing.Any) -> list:
    """The pydantic models inside an annotation (Optional[X], List[X], X)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in nested_models(arg)]


# apiVersion -> (module with the CRD models, validator name)
CRD_MODELS = {
    "keda.sh/v1alpha1": ("cloudcoil.models.keda.v1alpha1", "cloudcoil.models.keda"),
    "monitoring.coreos.com/v1": ("cloudcoil.models.prometheus_operator.v1", "cloudcoil.models.prometheus_operator"),
}


def crd_model(api_version: str, kind: str):
    """The pydantic model of a custom resource and its validator's name; (None, None) when unknown."""
    import importlib

    module, validator = CRD_MODELS.get(api_version, (None, None))
    if module is None:
        return None, None
    return getattr(importlib.import_module(module), kind, None), validator


def validate(resource: dict, versions: list) -> dict:
    kind = resource.get("kind", "?")
    name = (resource.get("metadata") or {}).get("name", "?")
    result = {"kind": kind, "name": name, "apiVersion": resource.get("apiVersion"), "errors": []}
    api_version = str(resource.get("apiVersion", ""))
    if api_version.split("/")[0] in {v.split("/")[0] for v in CRD_MODELS}:
        model, validator = crd_model(api_version, kind)
        if model is None:
            result["status"] = "unchecked"
            return result
        try:
            model.model_validate(resource)
        except ValidationError as error:
            result["errors"] += [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        result["errors"] += [f"{field}: unknown field" for field in unknown_fields(model, resource)]
        result["validator"] = validator
    else:
        for version in versions:
            try:
                kubernetes_validate.validate(resource, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                result["errors"].append(f"kubernetes {version}: {'.'.join(str(p) for p in error.path)}: {error.message}")
            except kubernetes_validate.utils.SchemaNotFoundError as error:
                result["status"] = "unchecked"
                result["errors"].append(error.message)
                return result
        result["validator"] = f"kubernetes-validate {kubernetes_validate.__version__} strict, " + ", ".join(versions)
    result["status"] = "invalid" if result["errors"] else "valid"
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes-version", action="append", dest="versions")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    versions = args.versions or ["1.30", "1.37"]
    ok = True
    for path in args.files:
        with open(path) as f:
            for resource in yaml.safe_load_all(f):
                if not resource:
                    continue
                result = validate(resource, versions)
                result["file"] = path
                print(json.dumps(result))
                ok = ok and result["status"] == "valid"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
