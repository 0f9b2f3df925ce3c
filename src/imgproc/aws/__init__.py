"""Everything that speaks to AWS apart from the stores: clients, stack outputs, CloudFront,
the queue fan-out, the trigger switches and the shapes of the events the function receives.

`clients`, `cdn` and `events` import no botocore at load; `stack_outputs`, `fanout` and
`switches` do, so the CLI imports them inside the commands that use them.
"""
