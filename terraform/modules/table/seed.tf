# Optional seed data (the sample locations the producer's records refer to).
# Items are keyed by location so adding or removing one leaves the others alone.
resource "aws_dynamodb_table_item" "seed" {
  for_each = { for item in var.seed_items : item.location => item }

  table_name = aws_dynamodb_table.this.name
  hash_key   = aws_dynamodb_table.this.hash_key

  item = jsonencode(merge(
    { (var.hash_key) = { S = each.value.location } },
    each.value.description == null ? {} : { description = { S = each.value.description } },
    each.value.notes == null ? {} : { notes = { S = each.value.notes } },
  ))
}
