#!/usr/bin/env python3
"""A local reverse proxy that checks AWS Signature Version 4 on every request with botocore (an
implementation independent of the AWS SDK for JavaScript the service signs with), then forwards
valid requests to a search engine, as Amazon OpenSearch Service's front end would. Tests only.

Prints {"port": N} on stdout once listening. GET /__sigv4_stats (unsigned) returns the counts and
the last failure. A refused request gets 403 and an AWS-style {"message": ...} body.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import re
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--session-token")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    upstream = urlsplit(args.upstream)
    credentials = Credentials(args.access_key, args.secret_key, args.session_token)
    stats = {"verified": 0, "refused": 0, "last_failure": None, "services": []}
    lock = threading.Lock()

    def verify(method, path, headers, body):
        """Returns None when the signature is valid, else why not."""
        match = AUTH.match(headers.get("authorization", ""))
        if not match:
            return "no SigV4 authorization header"
        access_key, date, region, service, signed, signature = match.groups()
        if access_key != args.access_key:
            return f"unknown access key {access_key}"
        if region != args.region or service != args.service:
            return f"credential scope {region}/{service}, expected {args.region}/{args.service}"
        amz_date = headers.get("x-amz-date", "")
        if not amz_date.startswith(date):
            return "x-amz-date does not match the credential scope's date"
        skew = abs((datetime.now(timezone.utc) - datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)).total_seconds())
        if skew > 300:
            return f"x-amz-date is {skew:.0f}s away from now"
        if args.session_token and headers.get("x-amz-security-token") != args.session_token:
            return "missing or wrong x-amz-security-token"
        # botocore trusts a payload hash header when present: check it against the body first.
        declared = headers.get("x-amz-content-sha256")
        if declared is not None and declared != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 does not match the body"
        names = signed.split(";")
        if "host" not in names:
            return "host is not signed"
        request = AWSRequest(method=method, url=f"http://{headers['host']}{path}", data=body, headers={n: headers[n] for n in names if n in headers})
        if len(request.headers) != len(names):
            return "a signed header is missing from the request"
        request.context["timestamp"] = amz_date
        auth = SigV4Auth(credentials, args.service, args.region)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        if not hmac.compare_digest(expected, signature):
            return "signature mismatch"
        with lock:
            stats["services"] = sorted(set(stats["services"]) | {service})
        return None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.command == "GET" and self.path == "/__sigv4_stats":
                with lock:
                    return self.answer(200, json.dumps(stats).encode(), "application/json")
            headers = {k.lower(): v for k, v in self.headers.items()}
            problem = verify(self.command, self.path, headers, body)
            with lock:
                if problem:
                    stats["refused"] += 1
                    stats["last_failure"] = f"{self.command} {self.path}: {problem}"
                else:
                    stats["verified"] += 1
            if problem:
                message = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
                return self.answer(403, json.dumps({"message": message, "k2e_reason": problem}).encode(), "application/json")
            connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            forward = {k: v for k, v in headers.items() if k in ("content-type", "content-encoding")}
            connection.request(self.command, self.path, body=body if body else None, headers=forward)
            response = connection.getresponse()
            data = response.read()
            connection.close()
            self.answer(response.status, data, response.getheader("content-type") or "application/json")

        def answer(self, status, data, content_type):
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
