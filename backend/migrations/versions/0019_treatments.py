"""treatments: the steps sent by strategy, the runs, paused steps, webhooks seen

Issue 20. ``treatment_sends`` holds one row per account, step and delinquency cycle
(its key unique, so a step is never sent twice a cycle, whatever runs or workers find
it due); ``treatment_runs`` each run with its letters' print file; ``treatment_pauses``
the steps a supervisor paused; ``inbound_seen`` the digests of signed webhook requests
already taken, so a replay is refused.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 18:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import MaskedString, MaskedText, UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_seen',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_inbound_seen'))
    )
    with op.batch_alter_table('inbound_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_seen_received_at'), ['received_at'], unique=False)

    op.create_table('treatment_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('started_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('planned', sa.Boolean(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('outages', sa.JSON(), nullable=False),
    sa.Column('print_file', sa.LargeBinary(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_runs'))
    )
    with op.batch_alter_table('treatment_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatment_runs_as_of'), ['as_of'], unique=False)

    op.create_table('treatment_pauses',
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('step_id', sa.String(length=40), nullable=False),
    sa.Column('paused_by_id', sa.Integer(), nullable=False),
    sa.Column('paused_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', MaskedText(), nullable=False),
    sa.ForeignKeyConstraint(['paused_by_id'], ['users.id'], name=op.f('fk_treatment_pauses_paused_by_id_users')),
    sa.PrimaryKeyConstraint('strategy', 'step_id', name=op.f('pk_treatment_pauses'))
    )
    op.create_table('treatment_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('step_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('template', sa.String(length=60), nullable=False),
    sa.Column('cycle_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('rule', sa.String(length=40), nullable=True),
    sa.Column('reason', MaskedText(), nullable=False),
    sa.Column('to', MaskedString(length=254), nullable=True),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('content', MaskedText(), nullable=False),
    sa.Column('provider_ref', sa.String(length=200), nullable=True),
    sa.Column('delivery', sa.String(length=12), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'sms', 'letter')", name=op.f('ck_treatment_sends_channel')),
    sa.CheckConstraint("status IN ('pending', 'waiting', 'sending', 'sent', 'failed', 'skipped', 'unknown')", name=op.f('ck_treatment_sends_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_treatment_sends_account_id_accounts')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_treatment_sends_contact_id_contacts')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_treatment_sends_document_id_documents')),
    sa.ForeignKeyConstraint(['run_id'], ['treatment_runs.id'], name=op.f('fk_treatment_sends_run_id_treatment_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_sends')),
    sa.UniqueConstraint('key', name='uq_treatment_sends_key')
    )
    with op.batch_alter_table('treatment_sends', schema=None) as batch_op:
        batch_op.create_index('ix_treatment_sends_account_cycle', ['account_id', 'cycle_on'], unique=False)
        batch_op.create_index('ix_treatment_sends_due_on', ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_treatment_sends_provider_ref'), ['provider_ref'], unique=False)
        batch_op.create_index('ix_treatment_sends_status_next', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('treatment_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_treatment_sends_status_next')
        batch_op.drop_index(batch_op.f('ix_treatment_sends_provider_ref'))
        batch_op.drop_index('ix_treatment_sends_due_on')
        batch_op.drop_index('ix_treatment_sends_account_cycle')

    op.drop_table('treatment_sends')
    op.drop_table('treatment_pauses')
    with op.batch_alter_table('treatment_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatment_runs_as_of'))

    op.drop_table('treatment_runs')
    with op.batch_alter_table('inbound_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_seen_received_at'))

    op.drop_table('inbound_seen')
