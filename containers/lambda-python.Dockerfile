# A stand-in for AWS's public.ecr.aws/lambda/python:3.11 for `sam local invoke` / `start-api` on machines
# without a registry: Debian's Python 3.11 with awslambdaric and boto3 (as the Lambda runtime provides),
# /var/runtime/bootstrap starting the runtime interface client, code in /var/task, layers in /opt.
# SAM adds its runtime emulator on top and runs it as the entrypoint; the emulator runs this bootstrap.
#   python -m forgesyte_dev.images lambda-base   (builds it as localhost/forgesyte-lambda-python:3.11)
ARG BASE_IMAGE=localhost/forgesyte-base:bookworm-py311-v2
FROM ${BASE_IMAGE}
ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime PATH=/var/lang/bin:$PATH \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/constraints.txt /tmp/constraints.txt
RUN python3 -m venv /var/lang \
    && /var/lang/bin/pip install --only-binary=:all: -c /tmp/constraints.txt awslambdaric boto3 \
    && mkdir -p /var/runtime /var/task /opt \
    && printf '#!/bin/sh\nexport PYTHONPATH="/var/task:/opt/python${PYTHONPATH:+:$PYTHONPATH}"\nexec /var/lang/bin/python -m awslambdaric "${_HANDLER:-$AWS_LAMBDA_FUNCTION_HANDLER}"\n' \
        > /var/runtime/bootstrap \
    && chmod 755 /var/runtime/bootstrap && rm /tmp/constraints.txt
WORKDIR /var/task
