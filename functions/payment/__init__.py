"""The payment service: the task Lambdas of the orchestrated payment and refund state machines.

``checks`` validates and fraud-screens an order; ``gateway`` talks to the card processor through a
:class:`~payment.gateways.PaymentGateway`. Both are stateless task handlers: the state machines in
``statemachines/`` own the order of steps, the retries and the compensation.
"""
