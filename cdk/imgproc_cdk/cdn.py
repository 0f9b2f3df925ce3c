"""CloudFront in front of `processed/*`: origin access control, HTTPS only, a year of cache.

The cache key includes only the `v` query string (the source etag), so a re-uploaded original
gets new URLs while unchanged variants stay cached. CloudFront may read `processed/*` and
nothing else: the bucket policy grants no more, so originals are never public.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from imgproc.web import cdn_headers


class Cdn(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, bucket: s3.IBucket,
                 output_prefix: str, logs: s3.IBucket, cors_origins: tuple[str, ...],
                 add_to_bucket_policy: Callable[[iam.PolicyStatement], None]) -> None:
        super().__init__(scope, construct_id)
        access_control = cloudfront.S3OriginAccessControl(
            self, "OriginAccess", signing=cloudfront.Signing.SIGV4_ALWAYS
        )
        # The origin sees the bucket by reference only, so CDK adds no policy of its own
        # (it would grant `bucket/*`); the statement below grants `processed/*` alone.
        origin_bucket = s3.Bucket.from_bucket_attributes(
            self, "OriginBucket", bucket_arn=bucket.bucket_arn,
            bucket_regional_domain_name=bucket.bucket_regional_domain_name,
        )
        origin = origins.S3BucketOrigin.with_origin_access_control(
            origin_bucket, origin_access_control=access_control
        )
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "VariantCache",
            comment="imgproc variants: keyed on ?v= (the source etag) only",
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list("v"),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            min_ttl=Duration.seconds(0),  # short-lived objects (manifests) keep their own
            default_ttl=Duration.days(365),
            max_ttl=Duration.days(365),
        )
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="imgproc: cross-origin reads of variants and manifests, nosniff",
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_origins=list(cors_origins),
                access_control_allow_methods=list(cdn_headers.CORS_METHODS),
                access_control_allow_headers=["*"],
                access_control_allow_credentials=False,
                access_control_max_age=Duration.seconds(cdn_headers.CORS_MAX_AGE_SECONDS),
                origin_override=True,
            ),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            ),
        )
        behavior = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            cache_policy=self.cache_policy,
            response_headers_policy=self.headers_policy,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            compress=False,  # images are already compressed
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="imgproc variants",
            default_behavior=behavior,
            additional_behaviors={f"{output_prefix}*": behavior},
            # A manifest not written yet is a 403 (no list permission): re-asked within a second
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status, ttl=Duration.seconds(cdn_headers.ERROR_CACHE_SECONDS))
                for status in (403, 404)
            ],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=logs,
            log_file_prefix="cloudfront/",
        )
        add_to_bucket_policy(
            iam.PolicyStatement(
                sid="CloudFrontReadsVariantsOnly",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{output_prefix}*")],
                conditions={"StringEquals": {"AWS:SourceArn": self.distribution_arn}},
            )
        )

    @property
    def distribution_arn(self) -> str:
        stack = Stack.of(self)
        return stack.format_arn(service="cloudfront", region="", resource="distribution",
                                resource_name=self.distribution.distribution_id)
