# Loaded by the moto server the harness starts (this folder is first on its
# PYTHONPATH; written by emulators/src/moto.rs).
#
# moto invokes a Kinesis stream's mapped function itself, inside PutRecord and
# PutRecords: through Docker, one record per event, before answering; without
# Docker the put fails with a 500 after storing only its first record. The
# harness runs event-source mappings as AWS does (`harness run`), so here
# moto only stores the records.
from moto.awslambda.models import LambdaBackend


def _stored_only(self, *args, **kwargs):
    return None


LambdaBackend.send_kinesis_message = _stored_only
