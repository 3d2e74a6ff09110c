"""Creates ECR repositories in given postures, and S3 buckets, on a moto server, with boto3.

    python moto_setup.py ENDPOINT < spec.json > created.json

The spec is a JSON object:

    {"registry_scanning": {"scanType": "BASIC", "rules": [...]},   # optional
     "denied_user": ["ecr:GetLifecyclePolicy", ...],                # optional
     "repositories": [{"name": "app",
                       "mutability": "MUTABLE" | "IMMUTABLE",
                       "scan_on_push": true,
                       "encryption": "AES256" | "KMS" | "customer-key",
                       "lifecycle": true,
                       "policy": {...} | null,
                       "manifest": "..." | null,
                       "images": [{"manifest": "...", "tag": "1"}, ...]}],
     "buckets": ["name", ...],                                      # optional
     "task_definitions": [{"region": "us-east-1",                   # optional
                           "definition": {...}}]}   # register-task-definition input

`KMS` is the AWS-managed key, `customer-key` a key this script creates. `denied_user` creates
an IAM user allowed everything but those actions and, once the repositories exist, turns on
moto's IAM enforcement (`/moto-api/reset-auth`): from then on only that user's key gets in.
Prints {"repositories": {name: {"kms_key": ARN|null, "digest": DIGEST|null}},
"access_key": {"id", "secret"}|null, "task_definitions": [ARN, ...]}.
"""

import json
import sys
import urllib.request

import boto3

LIFECYCLE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "expire untagged images",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 14,
            },
            "action": {"type": "expire"},
        }
    ]
}


def main():
    endpoint = sys.argv[1]
    spec = json.load(sys.stdin)
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    ecr = session.client("ecr", endpoint_url=endpoint)
    kms = session.client("kms", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)

    access_key = None
    if spec.get("denied_user"):
        iam.create_user(UserName="scanner")
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": spec["denied_user"], "Resource": "*"},
            ],
        }
        iam.put_user_policy(
            UserName="scanner", PolicyName="scan", PolicyDocument=json.dumps(policy)
        )
        key = iam.create_access_key(UserName="scanner")["AccessKey"]
        access_key = {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}

    if spec.get("registry_scanning"):
        ecr.put_registry_scanning_configuration(**spec["registry_scanning"])

    s3 = session.client("s3", endpoint_url=endpoint)
    for bucket in spec.get("buckets", []):
        s3.create_bucket(Bucket=bucket)

    created = {}
    for repo in spec.get("repositories", []):
        name = repo["name"]
        encryption = {"encryptionType": "AES256"}
        if repo.get("encryption") == "KMS":
            encryption = {"encryptionType": "KMS"}
        elif repo.get("encryption") == "customer-key":
            key = kms.create_key(Description=f"{name} images")["KeyMetadata"]["Arn"]
            encryption = {"encryptionType": "KMS", "kmsKey": key}
        out = ecr.create_repository(
            repositoryName=name,
            imageTagMutability=repo.get("mutability", "MUTABLE"),
            imageScanningConfiguration={"scanOnPush": repo.get("scan_on_push", False)},
            encryptionConfiguration=encryption,
        )["repository"]
        if repo.get("lifecycle"):
            ecr.put_lifecycle_policy(
                repositoryName=name, lifecyclePolicyText=json.dumps(LIFECYCLE)
            )
        if repo.get("policy"):
            ecr.set_repository_policy(
                repositoryName=name, policyText=json.dumps(repo["policy"])
            )
        digest = None
        if repo.get("manifest"):
            digest = ecr.put_image(
                repositoryName=name, imageManifest=repo["manifest"], imageTag="1.0"
            )["image"]["imageId"]["imageDigest"]
        for image in repo.get("images", []):
            args = {"repositoryName": name, "imageManifest": image["manifest"]}
            if image.get("tag"):
                args["imageTag"] = image["tag"]
            ecr.put_image(**args)
        created[name] = {
            "kms_key": out["encryptionConfiguration"].get("kmsKey"),
            "digest": digest,
        }
    task_definitions = []
    for task in spec.get("task_definitions", []):
        ecs = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=task.get("region", "us-east-1"),
        ).client("ecs", endpoint_url=endpoint)
        registered = ecs.register_task_definition(**task["definition"])
        task_definitions.append(registered["taskDefinition"]["taskDefinitionArn"])
    if access_key:
        # A form content type would hide the body from moto's handler.
        request = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth",
            data=b"0",
            headers={"Content-Type": "text/plain"},
            method="POST",
        )
        urllib.request.urlopen(request).read()
    json.dump(
        {
            "repositories": created,
            "access_key": access_key,
            "task_definitions": task_definitions,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
