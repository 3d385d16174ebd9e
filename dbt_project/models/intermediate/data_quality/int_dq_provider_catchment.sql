{#- Which sub-ICB locations each provider serves, and how much: the share of the provider's
    attributed activity per sub-ICB location over every loaded month. A provider's gap touches
    the areas it serves in proportion. Admitted care serves for APC and the inpatient FFT, A&E
    attendances for ECDS, the SitRep and the A&E FFT (the same trust codes). -#}
{%- set sources = [
    ('hes_apc', 'fct_apc_spell'),
    ('hes_opa', 'fct_outpatient_attendance'),
    ('ecds', 'fct_ae_attendance'),
] %}
with

{% for feed, model in sources %}
    {{ feed }}_activity as (
        select
            '{{ feed }}' as basis,
            provider_code,
            sub_icb_location_code,
            count(*) as records
        from {{ ref(model) }}
        where sub_icb_location_code is not null
        group by all
    ),
{% endfor %}

activity as (
    {%- for feed, model in sources %}
        select * from {{ feed }}_activity
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

shares as (
    select
        basis,
        provider_code,
        sub_icb_location_code,
        records / sum(records) over (partition by basis, provider_code) as share
    from activity
),

feed_basis as (
    {%- for feed, basis in [
        ('hes_apc', 'hes_apc'), ('fft_inpatient', 'hes_apc'), ('hes_opa', 'hes_opa'),
        ('ecds', 'ecds'), ('ae_monthly', 'ecds'), ('fft_ae', 'ecds'),
    ] %}
        select
            '{{ feed }}' as feed,
            '{{ basis }}' as basis
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        feed_basis.feed,
        shares.provider_code,
        shares.sub_icb_location_code,
        shares.share
    from shares
    inner join feed_basis on shares.basis = feed_basis.basis
)

select * from final
