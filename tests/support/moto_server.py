"""moto's server for the ECR tests, with two differences from stock moto that real ECR has.

    python moto_server.py PORT

- An image's digest is the sha256 of its manifest bytes, as every registry computes it (moto
  hashes the layer digests), so a digest moto reports is one a registry client can verify.
- A repository created with `encryptionType=KMS` and no key is encrypted with the AWS-managed
  `alias/aws/ecr` key, which exists in KMS and which KMS describes as `KeyManager: AWS` (moto
  invents a key ARN that KMS does not know).

With `LAYERGUARD_MOTO_THROTTLE=N` the first N `DescribeImages` calls of each repository answer
`ThrottlingException`, as real ECR does under load, so a client's retries can be tested; with
`LAYERGUARD_MOTO_FAIL_500=N` the first N calls of two settings answer HTTP 500.
"""

import hashlib
import os
import sys

from moto.ecr import models as ecr_models
from moto.kms import models as kms_models
from moto.server import main


def _create_digest(self):
    manifest = self.image_manifest.encode("utf-8")
    self._image_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()


ecr_models.Image._create_digest = _create_digest

_stock_encryption_config = ecr_models.Repository._determine_encryption_config


def _aws_managed_key(account_id, region):
    kms = kms_models.kms_backends[account_id][region]
    for key in kms.keys.values():
        if "alias/aws/ecr" in key.aliases:
            return key
    key = kms.create_key(
        policy=None,
        key_usage="ENCRYPT_DECRYPT",
        key_spec="SYMMETRIC_DEFAULT",
        description="Default key that protects my ECR data when no other key is defined",
        tags=None,
    )
    key.key_manager = "AWS"
    kms.create_alias(key.id, "alias/aws/ecr")
    return key


def _determine_encryption_config(self, encryption_config):
    if encryption_config == {"encryptionType": "KMS"}:
        key = _aws_managed_key(self.account_id, self.region_name)
        return {"encryptionType": "KMS", "kmsKey": key.arn}
    return _stock_encryption_config(self, encryption_config)


ecr_models.Repository._determine_encryption_config = _determine_encryption_config

_throttle = int(os.environ.get("LAYERGUARD_MOTO_THROTTLE", "0"))
_throttled = {}
_stock_describe_images = ecr_models.ECRBackend.describe_images


def _describe_images(self, repository_name, *args, **kwargs):
    count = _throttled.get(repository_name, 0)
    if count < _throttle:
        _throttled[repository_name] = count + 1
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError("ThrottlingException", "Rate exceeded")
    return _stock_describe_images(self, repository_name, *args, **kwargs)


ecr_models.ECRBackend.describe_images = _describe_images

# With `LAYERGUARD_MOTO_FAIL_500=N` the first N calls of GetLifecyclePolicy and of
# GetRegistryScanningConfiguration answer HTTP 500 `ServerException`, as a struggling ECR does.
_fail_500 = int(os.environ.get("LAYERGUARD_MOTO_FAIL_500", "0"))


def _failing_first_calls(stock):
    calls = [0]

    def patched(self, *args, **kwargs):
        if calls[0] < _fail_500:
            calls[0] += 1
            from moto.core.exceptions import JsonRESTError

            error = JsonRESTError("ServerException", "Internal error")
            error.code = 500
            raise error
        return stock(self, *args, **kwargs)

    return patched


for _name in ("get_lifecycle_policy", "get_registry_scanning_configuration"):
    setattr(ecr_models.ECRBackend, _name, _failing_first_calls(getattr(ecr_models.ECRBackend, _name)))

if __name__ == "__main__":
    main(["--host", "127.0.0.1", "--port", sys.argv[1]])
