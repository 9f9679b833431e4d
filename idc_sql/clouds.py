"""Where IDC's files are: the same buckets on AWS and, under other names, on Google Cloud.

Both are read with s5cmd through the S3 protocol (Google Cloud Storage answers it at
``storage.googleapis.com``), anonymously: the buckets are public and not requester-pays.

>>> CLOUDS["gcs"].bucket("idc-open-data-two")
'idc-open-idc1'
>>> CLOUDS["aws"].bucket_from("gs", "idc-open-cr")
'idc-open-data-cr'
"""

from __future__ import annotations

from dataclasses import dataclass

#: AWS bucket -> its Google Cloud mirror
GCS_OF_AWS = {
    "idc-open-data": "idc-open-data",
    "idc-open-data-two": "idc-open-idc1",
    "idc-open-data-cr": "idc-open-cr",
}
AWS_OF_GCS = {gcs: aws for aws, gcs in GCS_OF_AWS.items()}


@dataclass(frozen=True)
class Cloud:
    """One provider of IDC's buckets."""

    name: str
    #: the S3 endpoint s5cmd talks to
    endpoint: str
    #: how a manifest spells its URLs (``s3://``, ``gs://``)
    scheme: str

    def bucket(self, aws_bucket: str, gcs_bucket: str | None = None) -> str:
        """This cloud's bucket for a series the index places in ``aws_bucket`` (and, for an
        earlier version, ``gcs_bucket`` on Google Cloud)."""
        if self.scheme == "gs":
            return gcs_bucket or GCS_OF_AWS.get(aws_bucket, aws_bucket)
        return aws_bucket

    def bucket_from(self, scheme: str | None, bucket: str) -> str:
        """This cloud's bucket for a manifest line's ``scheme://bucket``."""
        if scheme == self.scheme or scheme is None:
            return bucket
        if self.scheme == "gs":
            return GCS_OF_AWS.get(bucket, bucket)
        return AWS_OF_GCS.get(bucket, bucket)


CLOUDS = {
    c.name: c
    for c in (
        Cloud("aws", "https://s3.amazonaws.com", "s3"),
        Cloud("gcs", "https://storage.googleapis.com", "gs"),
    )
}
DEFAULT_CLOUD = "aws"
#: how often s5cmd retries a failed request before a download gives up on the endpoint
DEFAULT_RETRIES = 5
#: seconds without anything arriving after which a download stops (s5cmd would wait forever)
DEFAULT_TIMEOUT = 120.0
