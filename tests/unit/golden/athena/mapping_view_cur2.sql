CREATE OR REPLACE VIEW "cur"."finops_line_items" AS
SELECT
  CASE
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    THEN 0
    ELSE t.line_item_unblended_cost
  END AS "BilledCost",
  CASE
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    THEN 0
    ELSE CASE t.line_item_line_item_type
      WHEN 'SavingsPlanCoveredUsage'
      THEN t.savings_plan_savings_plan_effective_cost
      WHEN 'DiscountedUsage'
      THEN t.reservation_effective_cost
      WHEN 'SavingsPlanNegation'
      THEN 0
      WHEN 'SavingsPlanUpfrontFee'
      THEN 0
      WHEN 'SavingsPlanRecurringFee'
      THEN 0
      WHEN 'RIFee'
      THEN 0
      WHEN 'Fee'
      THEN CASE
        WHEN NOT t.reservation_reservation_a_r_n IS NULL
        THEN 0
        ELSE t.line_item_unblended_cost
      END
      ELSE t.line_item_unblended_cost
    END
  END AS "EffectiveCost",
  CASE
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    THEN 0
    ELSE CASE
      WHEN t.line_item_line_item_type = 'SavingsPlanNegation'
      THEN 0
      ELSE t.pricing_public_on_demand_cost
    END
  END AS "ListCost",
  CAST(NULL AS DOUBLE) AS "ContractedCost",
  t.line_item_usage_start_date AS "ChargePeriodStart",
  t.line_item_usage_end_date AS "ChargePeriodEnd",
  t.bill_billing_period_start_date AS "BillingPeriodStart",
  t.bill_billing_period_end_date AS "BillingPeriodEnd",
  t.bill_payer_account_id AS "BillingAccountId",
  t.bill_payer_account_name AS "BillingAccountName",
  t.line_item_currency_code AS "BillingCurrency",
  CASE
    WHEN t.line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')
    THEN 'Usage'
    WHEN t.line_item_line_item_type IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee')
    THEN 'Purchase'
    WHEN t.line_item_line_item_type = 'Tax'
    THEN 'Tax'
    WHEN t.line_item_line_item_type IN (
      'Credit',
      'Refund',
      'BundledDiscount',
      'EdpDiscount',
      'SppDiscount',
      'PrivateRateDiscount',
      'DistributorDiscount',
      'Discount'
    )
    THEN 'Credit'
    WHEN t.line_item_line_item_type IS NULL
    THEN 'Usage'
    ELSE 'Adjustment'
  END AS "ChargeCategory",
  CASE WHEN t.line_item_line_item_type = 'Refund' THEN 'Correction' END AS "ChargeClass",
  CASE
    WHEN t.line_item_line_item_type IN ('Fee', 'SavingsPlanUpfrontFee')
    THEN 'One-Time'
    WHEN t.line_item_line_item_type IN ('RIFee', 'SavingsPlanRecurringFee')
    THEN 'Recurring'
    ELSE 'Usage-Based'
  END AS "ChargeFrequency",
  t.line_item_line_item_description AS "ChargeDescription",
  CASE
    WHEN t.line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage')
    THEN 'Committed'
    WHEN t.pricing_term = 'Spot'
    THEN 'Dynamic'
    WHEN t.line_item_line_item_type IN ('Usage', 'SavingsPlanNegation')
    OR t.line_item_line_item_type IS NULL
    THEN 'Standard'
  END AS "PricingCategory",
  CASE
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    THEN NULL
    ELSE t.line_item_usage_amount
  END AS "PricingQuantity",
  t.pricing_unit AS "PricingUnit",
  CASE
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    THEN NULL
    ELSE t.line_item_usage_amount
  END AS "ConsumedQuantity",
  t.pricing_unit AS "ConsumedUnit",
  'AWS' AS "ProviderName",
  t.line_item_legal_entity AS "PublisherName",
  t.bill_invoicing_entity AS "InvoiceIssuerName",
  COALESCE(ELEMENT_AT(t.product, 'product_name'), t.line_item_product_code) AS "ServiceName",
  CAST(NULL AS VARCHAR) AS "ServiceCategory",
  t.line_item_usage_account_id AS "SubAccountId",
  t.line_item_usage_account_name AS "SubAccountName",
  COALESCE(t.product_region_code, ELEMENT_AT(t.product, 'region')) AS "RegionId",
  CAST(NULL AS VARCHAR) AS "RegionName",
  t.line_item_availability_zone AS "AvailabilityZone",
  t.line_item_resource_id AS "ResourceId",
  CAST(NULL AS VARCHAR) AS "ResourceName",
  CAST(NULL AS VARCHAR) AS "ResourceType",
  t.product_sku AS "SkuId",
  CAST(NULL AS VARCHAR) AS "SkuPriceId",
  CAST(NULL AS VARCHAR) AS "SkuMeter",
  COALESCE(t.savings_plan_savings_plan_a_r_n, t.reservation_reservation_a_r_n) AS "CommitmentDiscountId",
  CAST(NULL AS VARCHAR) AS "CommitmentDiscountName",
  CASE
    WHEN NOT t.savings_plan_savings_plan_a_r_n IS NULL
    THEN 'Savings Plan'
    WHEN NOT t.reservation_reservation_a_r_n IS NULL
    THEN 'Reservation'
  END AS "CommitmentDiscountType",
  CASE
    WHEN t.line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage')
    THEN 'Used'
  END AS "CommitmentDiscountStatus",
  CASE
    WHEN NOT t.savings_plan_savings_plan_a_r_n IS NULL
    THEN 'Spend'
    WHEN NOT t.reservation_reservation_a_r_n IS NULL
    THEN 'Usage'
  END AS "CommitmentDiscountCategory",
  CASE
    WHEN CARDINALITY(t.resource_tags) > 0
    THEN JSON_FORMAT(CAST(t.resource_tags AS JSON))
  END AS "Tags",
  CAST(NULL AS VARCHAR) AS "ServiceProviderName",
  CAST(NULL AS VARCHAR) AS "HostProviderName",
  CAST(NULL AS VARCHAR) AS "AllocatedMethodId",
  CAST(NULL AS VARCHAR) AS "AllocatedMethodDetails",
  CAST(NULL AS VARCHAR) AS "AllocatedResourceId",
  CAST(NULL AS VARCHAR) AS "AllocatedResourceName",
  CAST(NULL AS VARCHAR) AS "AllocatedTags",
  t.line_item_usage_type AS "x_UsageType",
  t.line_item_operation AS "x_Operation",
  CASE
    WHEN CARDINALITY(t.cost_category) > 0
    THEN JSON_FORMAT(CAST(t.cost_category AS JSON))
  END AS "x_CostCategories",
  COALESCE(t.savings_plan_start_time, t.reservation_start_time) AS "x_CommitmentStart",
  COALESCE(t.savings_plan_end_time, t.reservation_end_time) AS "x_CommitmentEnd",
  CASE
    WHEN t.line_item_line_item_type = 'SavingsPlanRecurringFee'
    THEN CAST(t.savings_plan_total_commitment_to_date AS DOUBLE) / GREATEST(
      1,
      DATE_DIFF(
        'HOUR',
        DATE_TRUNC('HOUR', t.line_item_usage_start_date),
        DATE_TRUNC('HOUR', t.line_item_usage_end_date)
      )
    )
  END AS "x_CommitmentHourly",
  t.split_line_item_parent_resource_id AS "x_SplitParentResourceId",
  t.split_line_item_split_cost AS "x_SplitCost",
  t.split_line_item_unused_cost AS "x_SplitUnusedCost",
  t.split_line_item_net_split_cost AS "x_SplitNetSplitCost",
  t.split_line_item_net_unused_cost AS "x_SplitNetUnusedCost",
  t.split_line_item_split_usage AS "x_SplitUsage",
  t.split_line_item_split_usage_ratio AS "x_SplitUsageRatio",
  t.split_line_item_reserved_usage AS "x_SplitReservedUsage",
  t.split_line_item_actual_usage AS "x_SplitActualUsage",
  CASE
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    THEN COALESCE(
      COALESCE(
        NULLIF(
          TRIM(
            JSON_EXTRACT_SCALAR(
              REGEXP_REPLACE(
                REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
                '([{,]\s*)"aws_',
                '\1"aws:',
                'g'
              ),
              '$["aws:eks:cluster-name"]'
            )
          ),
          ''
        ),
        NULLIF(
          TRIM(
            JSON_EXTRACT_SCALAR(
              REGEXP_REPLACE(
                REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
                '([{,]\s*)"aws_',
                '\1"aws:',
                'g'
              ),
              '$["aws:eks_cluster_name"]'
            )
          ),
          ''
        ),
        NULLIF(
          TRIM(
            JSON_EXTRACT_SCALAR(
              REGEXP_REPLACE(
                REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
                '([{,]\s*)"aws_',
                '\1"aws:',
                'g'
              ),
              '$["aws:ecs:clusterName"]'
            )
          ),
          ''
        ),
        NULLIF(
          TRIM(
            JSON_EXTRACT_SCALAR(
              REGEXP_REPLACE(
                REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
                '([{,]\s*)"aws_',
                '\1"aws:',
                'g'
              ),
              '$["aws:ecs_cluster_name"]'
            )
          ),
          ''
        )
      ),
      NULLIF(SPLIT_PART(t.line_item_resource_id, '/', 2), '')
    )
  END AS "x_ContainerCluster",
  CASE
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    AND t.line_item_operation = 'EKSPod-EC2'
    THEN COALESCE(
      COALESCE(
        NULLIF(
          TRIM(
            JSON_EXTRACT_SCALAR(
              REGEXP_REPLACE(
                REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
                '([{,]\s*)"aws_',
                '\1"aws:',
                'g'
              ),
              '$["aws:eks:namespace"]'
            )
          ),
          ''
        ),
        NULLIF(
          TRIM(
            JSON_EXTRACT_SCALAR(
              REGEXP_REPLACE(
                REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
                '([{,]\s*)"aws_',
                '\1"aws:',
                'g'
              ),
              '$["aws:eks_namespace"]'
            )
          ),
          ''
        )
      ),
      NULLIF(SPLIT_PART(t.line_item_resource_id, '/', 3), '')
    )
    WHEN (
      t.line_item_operation IN ('EKSPod-EC2', 'ECSTask-EC2')
      AND NOT t.split_line_item_parent_resource_id IS NULL
    )
    THEN COALESCE(
      NULLIF(
        TRIM(
          JSON_EXTRACT_SCALAR(
            REGEXP_REPLACE(
              REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
              '([{,]\s*)"aws_',
              '\1"aws:',
              'g'
            ),
            '$["aws:ecs:serviceName"]'
          )
        ),
        ''
      ),
      NULLIF(
        TRIM(
          JSON_EXTRACT_SCALAR(
            REGEXP_REPLACE(
              REGEXP_REPLACE(t.resource_tags, '([{,]\s*)"user_', '\1"', 'g'),
              '([{,]\s*)"aws_',
              '\1"aws:',
              'g'
            ),
            '$["aws:ecs_service_name"]'
          )
        ),
        ''
      )
    )
  END AS "x_ContainerNamespace",
  CAST(NULL AS VARCHAR) AS "x_Extras",
  CAST(t.line_item_usage_start_date AS DATE) AS charge_date,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('team')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_team,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('env', 'environment')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_environment,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('service')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_service,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('cost center', 'cost-center', 'cost_center', 'costcenter')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_cost_center,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('owner')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_owner,
  t.billing_period AS billing_period
FROM cur.cur2_export AS t
UNION ALL
SELECT
  0 AS "BilledCost",
  CASE t.line_item_line_item_type
    WHEN 'SavingsPlanRecurringFee'
    THEN COALESCE(t.savings_plan_total_commitment_to_date, 0) - COALESCE(t.savings_plan_used_commitment, 0)
    WHEN 'RIFee'
    THEN COALESCE(t.reservation_unused_amortized_upfront_fee_for_billing_period, 0) + COALESCE(t.reservation_unused_recurring_fee, 0)
  END AS "EffectiveCost",
  0 AS "ListCost",
  CAST(NULL AS DOUBLE) AS "ContractedCost",
  t.line_item_usage_start_date AS "ChargePeriodStart",
  t.line_item_usage_end_date AS "ChargePeriodEnd",
  t.bill_billing_period_start_date AS "BillingPeriodStart",
  t.bill_billing_period_end_date AS "BillingPeriodEnd",
  t.bill_payer_account_id AS "BillingAccountId",
  t.bill_payer_account_name AS "BillingAccountName",
  t.line_item_currency_code AS "BillingCurrency",
  'Usage' AS "ChargeCategory",
  CAST(NULL AS VARCHAR) AS "ChargeClass",
  'Usage-Based' AS "ChargeFrequency",
  'Unused commitment' AS "ChargeDescription",
  'Committed' AS "PricingCategory",
  CAST(NULL AS DOUBLE) AS "PricingQuantity",
  CAST(NULL AS VARCHAR) AS "PricingUnit",
  CAST(NULL AS DOUBLE) AS "ConsumedQuantity",
  CAST(NULL AS VARCHAR) AS "ConsumedUnit",
  'AWS' AS "ProviderName",
  t.line_item_legal_entity AS "PublisherName",
  t.bill_invoicing_entity AS "InvoiceIssuerName",
  COALESCE(ELEMENT_AT(t.product, 'product_name'), t.line_item_product_code) AS "ServiceName",
  CAST(NULL AS VARCHAR) AS "ServiceCategory",
  t.line_item_usage_account_id AS "SubAccountId",
  t.line_item_usage_account_name AS "SubAccountName",
  COALESCE(t.product_region_code, ELEMENT_AT(t.product, 'region')) AS "RegionId",
  CAST(NULL AS VARCHAR) AS "RegionName",
  t.line_item_availability_zone AS "AvailabilityZone",
  COALESCE(t.savings_plan_savings_plan_a_r_n, t.reservation_reservation_a_r_n) AS "ResourceId",
  CAST(NULL AS VARCHAR) AS "ResourceName",
  CAST(NULL AS VARCHAR) AS "ResourceType",
  t.product_sku AS "SkuId",
  CAST(NULL AS VARCHAR) AS "SkuPriceId",
  CAST(NULL AS VARCHAR) AS "SkuMeter",
  COALESCE(t.savings_plan_savings_plan_a_r_n, t.reservation_reservation_a_r_n) AS "CommitmentDiscountId",
  CAST(NULL AS VARCHAR) AS "CommitmentDiscountName",
  CASE
    WHEN NOT t.savings_plan_savings_plan_a_r_n IS NULL
    THEN 'Savings Plan'
    WHEN NOT t.reservation_reservation_a_r_n IS NULL
    THEN 'Reservation'
  END AS "CommitmentDiscountType",
  'Unused' AS "CommitmentDiscountStatus",
  CASE
    WHEN NOT t.savings_plan_savings_plan_a_r_n IS NULL
    THEN 'Spend'
    WHEN NOT t.reservation_reservation_a_r_n IS NULL
    THEN 'Usage'
  END AS "CommitmentDiscountCategory",
  CASE
    WHEN CARDINALITY(t.resource_tags) > 0
    THEN JSON_FORMAT(CAST(t.resource_tags AS JSON))
  END AS "Tags",
  CAST(NULL AS VARCHAR) AS "ServiceProviderName",
  CAST(NULL AS VARCHAR) AS "HostProviderName",
  CAST(NULL AS VARCHAR) AS "AllocatedMethodId",
  CAST(NULL AS VARCHAR) AS "AllocatedMethodDetails",
  CAST(NULL AS VARCHAR) AS "AllocatedResourceId",
  CAST(NULL AS VARCHAR) AS "AllocatedResourceName",
  CAST(NULL AS VARCHAR) AS "AllocatedTags",
  t.line_item_usage_type AS "x_UsageType",
  t.line_item_operation AS "x_Operation",
  CASE
    WHEN CARDINALITY(t.cost_category) > 0
    THEN JSON_FORMAT(CAST(t.cost_category AS JSON))
  END AS "x_CostCategories",
  COALESCE(t.savings_plan_start_time, t.reservation_start_time) AS "x_CommitmentStart",
  COALESCE(t.savings_plan_end_time, t.reservation_end_time) AS "x_CommitmentEnd",
  CASE
    WHEN t.line_item_line_item_type = 'SavingsPlanRecurringFee'
    THEN CAST(t.savings_plan_total_commitment_to_date AS DOUBLE) / GREATEST(
      1,
      DATE_DIFF(
        'HOUR',
        DATE_TRUNC('HOUR', t.line_item_usage_start_date),
        DATE_TRUNC('HOUR', t.line_item_usage_end_date)
      )
    )
  END AS "x_CommitmentHourly",
  CAST(NULL AS VARCHAR) AS "x_SplitParentResourceId",
  CAST(NULL AS DOUBLE) AS "x_SplitCost",
  CAST(NULL AS DOUBLE) AS "x_SplitUnusedCost",
  CAST(NULL AS DOUBLE) AS "x_SplitNetSplitCost",
  CAST(NULL AS DOUBLE) AS "x_SplitNetUnusedCost",
  CAST(NULL AS DOUBLE) AS "x_SplitUsage",
  CAST(NULL AS DOUBLE) AS "x_SplitUsageRatio",
  CAST(NULL AS DOUBLE) AS "x_SplitReservedUsage",
  CAST(NULL AS DOUBLE) AS "x_SplitActualUsage",
  CAST(NULL AS VARCHAR) AS "x_ContainerCluster",
  CAST(NULL AS VARCHAR) AS "x_ContainerNamespace",
  CAST(NULL AS VARCHAR) AS "x_Extras",
  CAST(t.line_item_usage_start_date AS DATE) AS charge_date,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('team')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_team,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('env', 'environment')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_environment,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('service')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_service,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('cost center', 'cost-center', 'cost_center', 'costcenter')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_cost_center,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.resource_tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.resource_tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('owner')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.resource_tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_owner,
  t.billing_period AS billing_period
FROM cur.cur2_export AS t
WHERE
  t.line_item_line_item_type IN ('SavingsPlanRecurringFee', 'RIFee')
  AND (
    CASE t.line_item_line_item_type
      WHEN 'SavingsPlanRecurringFee'
      THEN COALESCE(t.savings_plan_total_commitment_to_date, 0) - COALESCE(t.savings_plan_used_commitment, 0)
      WHEN 'RIFee'
      THEN COALESCE(t.reservation_unused_amortized_upfront_fee_for_billing_period, 0) + COALESCE(t.reservation_unused_recurring_fee, 0)
    END
  ) <> 0
